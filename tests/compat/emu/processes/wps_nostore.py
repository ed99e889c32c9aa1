from pywps import LiteralInput, LiteralOutput, Process


class NoStore(Process):
    """Runs synchronously only: neither storeExecuteResponse nor status are supported."""

    def __init__(self):
        super().__init__(
            self._handler,
            identifier='nostore',
            title='Synchronous only',
            inputs=[LiteralInput('x', 'X', data_type='integer', default=1, min_occurs=0)],
            outputs=[LiteralOutput('y', 'X squared', data_type='integer')],
        )

    @staticmethod
    def _handler(request, response):
        response.outputs['y'].data = request.inputs['x'][0].data ** 2
        return response
