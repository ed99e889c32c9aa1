from pywps import LiteralOutput, Process, configuration


class ShowConfig(Process):
    """Reads configuration values inside a handler, the way processes look up their data directories."""

    def __init__(self):
        super().__init__(
            self._handler,
            identifier='show_config',
            title='Report configuration values',
            outputs=[LiteralOutput('url', 'The service URL', data_type='string'),
                     LiteralOutput('maxsize', 'Largest single input', data_type='string'),
                     LiteralOutput('custom', 'A key of this collection', data_type='string')],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        response.outputs['url'].data = configuration.get_config_value('server', 'url')
        response.outputs['maxsize'].data = configuration.get_config_value('server', 'maxsingleinputsize')
        response.outputs['custom'].data = configuration.get_config_value('emu', 'archive_root') or 'unset'
        return response
