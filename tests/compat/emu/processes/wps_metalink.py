import os

from pywps import FORMATS, ComplexOutput, LiteralInput, Process
from pywps.inout.outputs import MetaFile, MetaLink4


class MultipleOutputs(Process):
    """Produces a variable number of files, listed in a MetaLink 4 document."""

    def __init__(self):
        super().__init__(
            self._handler,
            identifier='multiple_outputs',
            title='Multiple Outputs',
            abstract='Produces multiple files and returns a document with references to these files.',
            version='1.1',
            inputs=[LiteralInput('count', 'Number of files', data_type='integer', default=2, min_occurs=0,
                                 allowed_values=[1, 2, 3, 4, 5])],
            outputs=[
                ComplexOutput('output', 'METALINK v4 output', abstract='Testing metalink v4 output',
                              as_reference=False, supported_formats=[FORMATS.META4]),
            ],
            store_supported=True,
            status_supported=True,
        )

    def _handler(self, request, response):
        ml = MetaLink4('test-ml-1', 'Testing MetaLink with text files.', workdir=self.workdir)
        for i in range(request.inputs['count'][0].data):
            mf = MetaFile(f'Text file {i}', 'Dummy text file', fmt=FORMATS.TEXT)
            path = os.path.join(self.workdir, f'file_{i}.txt')
            with open(path, 'w') as fh:
                fh.write(f'My text file {i}\n')
            mf.file = path
            ml.append(mf)
        response.outputs['output'].data = ml.xml
        return response
