from pywps import LiteralOutput, Process, configuration


class ShowConfig(Process):
    """Reads the server configuration from a handler, as processes do to find data directories."""

    def __init__(self):
        super().__init__(
            self._handler,
            identifier='show_config',
            title='Show configuration',
            outputs=[LiteralOutput('url', 'Server URL', data_type='string'),
                     LiteralOutput('maxsize', 'maxsingleinputsize', data_type='string'),
                     LiteralOutput('custom', 'A collection-specific key', data_type='string')],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        response.outputs['url'].data = configuration.get_config_value('server', 'url')
        response.outputs['maxsize'].data = configuration.get_config_value('server', 'maxsingleinputsize')
        response.outputs['custom'].data = configuration.get_config_value('emu', 'archive_root') or 'unset'
        return response
