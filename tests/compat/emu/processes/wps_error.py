from pywps import LiteralInput, LiteralOutput, Process
from pywps.app.exceptions import ProcessError


class ShowError(Process):
    """Fails on request: with a ProcessError the client may read, or with an error it must never see."""

    def __init__(self):
        inputs = [
            LiteralInput('message', 'Failure text', data_type='string',
                         abstract='What the failure should say.',
                         default='failing as asked', min_occurs=1),
            LiteralInput('nice', 'Report it', data_type='boolean', default=True, min_occurs=0,
                         abstract='true: fail with a ProcessError; false: with an unexpected exception.'),
        ]
        super().__init__(
            self._handler,
            identifier='show_error',
            title='Fail on purpose',
            abstract='Never succeeds; shows how a failure reaches the client.',
            version='1.0',
            inputs=inputs,
            outputs=[LiteralOutput('output', 'Never set', data_type='string')],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        response.update_status('about to fail', 0)
        if request.inputs['nice'][0].data:
            raise ProcessError(request.inputs['message'][0].data)
        raise RuntimeError('internal detail: /etc/collection/credentials.cfg line 42')
