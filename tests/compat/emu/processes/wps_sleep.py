import time

from pywps import LiteralInput, LiteralOutput, Process


class Sleep(Process):
    def __init__(self):
        super().__init__(
            self._handler,
            identifier='sleep',
            title='Sleep Process',
            abstract='Testing a long running process, in the sleep. This process will sleep for a given delay.',
            version='1.0',
            inputs=[LiteralInput('delay', 'Delay between every update', data_type='float', default=0.1,
                                 min_occurs=0)],
            outputs=[LiteralOutput('sleep_output', 'Sleep Output', data_type='string')],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        delay = request.inputs['delay'][0].data
        for percent in (20, 40, 60, 80):
            time.sleep(delay)
            response.update_status(f'PyWPS Process started. Waiting... {percent}%', percent)
        response.outputs['sleep_output'].data = 'done sleeping'
        return response
