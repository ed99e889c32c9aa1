from pywps import LiteralInput, LiteralOutput, Process


class NoStore(Process):
    """Synchronous only: supports neither storeExecuteResponse nor status."""

    def __init__(self):
        super().__init__(
            self._handler,
            identifier='nostore',
            title='Square a number, synchronously',
            inputs=[LiteralInput('x', 'A whole number', data_type='integer', default=1, min_occurs=0)],
            outputs=[LiteralOutput('y', 'Its square', data_type='integer')],
        )

    @staticmethod
    def _handler(request, response):
        response.outputs['y'].data = request.inputs['x'][0].data ** 2
        return response
