import time

from pywps import LiteralInput, LiteralOutput, Process


class Sleep(Process):
    """Takes its time on purpose, reporting progress four times along the way."""

    def __init__(self):
        super().__init__(
            self._handler,
            identifier='sleep',
            title='Wait a while',
            abstract='Pauses between four progress reports, for trying out asynchronous execution.',
            version='1.0',
            inputs=[LiteralInput('delay', 'Pause between reports (seconds)', data_type='float', default=0.1,
                                 min_occurs=0)],
            outputs=[LiteralOutput('sleep_output', 'What it says at the end', data_type='string')],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        delay = request.inputs['delay'][0].data
        for percent in (20, 40, 60, 80):
            time.sleep(delay)
            response.update_status(f'waited {percent}% of the time', percent)
        response.outputs['sleep_output'].data = 'awake again'
        return response
