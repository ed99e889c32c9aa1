from pywps import LiteralInput, LiteralOutput, Process
from pywps.app.Common import Metadata
from pywps.ext_autodoc import MetadataUrl


class Hello(Process):
    """Greets a name: the smallest literal-in, literal-out process, with status updates and metadata links."""

    def __init__(self):
        inputs = [LiteralInput('name', 'Name to greet', abstract='Who the greeting is addressed to.',
                               data_type='string')]
        outputs = [LiteralOutput('output', 'Greeting', abstract='The sentence that greets the name.',
                                 data_type='string')]

        super().__init__(
            self._handler,
            identifier='hello',
            title='Greet a name',
            abstract='Answers with a greeting sentence built around the name it is given.',
            keywords=['greeting', 'example'],
            metadata=[
                Metadata('Project site', 'https://pywps.org/'),
                Metadata('Process notes', 'https://example.org/collection/hello'),
                MetadataUrl('Usage guide', 'https://example.org/collection/guide/', anonymous=True),
            ],
            version='1.5',
            inputs=inputs,
            outputs=outputs,
            store_supported=True,
            status_supported=True,
        )

    def _handler(self, request, response):
        response.update_status('composing the greeting', 0)
        response.outputs['output'].data = 'Hello ' + request.inputs['name'][0].data
        response.update_status('greeting ready', 100)
        return response
