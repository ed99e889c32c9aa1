from pywps import LiteralInput, LiteralOutput, Process
from pywps.app.exceptions import ProcessError


class ShowError(Process):
    def __init__(self):
        inputs = [
            LiteralInput('message', 'Error Message', data_type='string',
                         abstract='Enter an error message that will be returned.',
                         default="This process failed intentionally.", min_occurs=1),
            LiteralInput('nice', 'Nice', data_type='boolean', default=True, min_occurs=0,
                         abstract='Raise a ProcessError (nice) or a plain exception (not nice).'),
        ]
        super().__init__(
            self._handler,
            identifier='show_error',
            title='Show a WPS Error',
            abstract='This process will fail intentionally with a WPS error message.',
            version='1.0',
            inputs=inputs,
            outputs=[LiteralOutput('output', 'Output response', data_type='string')],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        response.update_status('PyWPS Process started.', 0)
        if request.inputs['nice'][0].data:
            raise ProcessError(request.inputs['message'][0].data)
        raise RuntimeError('secret internals: /etc/emu/credentials.cfg line 42')
