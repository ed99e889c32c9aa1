from pywps import LiteralInput, LiteralOutput, Process
from pywps.app.Common import Metadata
from pywps.ext_autodoc import MetadataUrl


class Hello(Process):
    def __init__(self):
        inputs = [LiteralInput('name', 'Your name', abstract='Please enter your name.', data_type='string')]
        outputs = [LiteralOutput('output', 'Output response', abstract='A friendly Hello from us.',
                                 data_type='string')]

        super().__init__(
            self._handler,
            identifier='hello',
            title='Say Hello',
            abstract='Just says a friendly Hello. Returns a literal string output with Hello plus the inputed name.',
            keywords=['hello', 'demo'],
            metadata=[
                Metadata('PyWPS', 'https://pywps.org/'),
                Metadata('Birdhouse', 'http://bird-house.github.io/'),
                MetadataUrl('User Guide', 'http://emu.readthedocs.io/en/latest/', anonymous=True),
            ],
            version='1.5',
            inputs=inputs,
            outputs=outputs,
            store_supported=True,
            status_supported=True,
        )

    def _handler(self, request, response):
        response.update_status('PyWPS Process started.', 0)
        response.outputs['output'].data = 'Hello ' + request.inputs['name'][0].data
        response.update_status('PyWPS Process completed.', 100)
        return response
