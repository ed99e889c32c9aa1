import os

from pywps import FORMATS, ComplexOutput, LiteralInput, Process
from pywps.inout.outputs import MetaFile, MetaLink4


class MultipleOutputs(Process):
    """Writes as many text files as asked and lists them in a MetaLink 4 document."""

    def __init__(self):
        super().__init__(
            self._handler,
            identifier='multiple_outputs',
            title='Several files in one answer',
            abstract='Each run leaves one to five numbered text files in its work directory; the single output '
                     'is a MetaLink 4 document that points at them.',
            version='1.1',
            inputs=[LiteralInput('count', 'How many files', data_type='integer', default=2, min_occurs=0,
                                 allowed_values=[1, 2, 3, 4, 5])],
            outputs=[
                ComplexOutput('output', 'MetaLink 4 list', abstract='Where each written file can be fetched',
                              as_reference=False, supported_formats=[FORMATS.META4]),
            ],
            store_supported=True,
            status_supported=True,
        )

    def _handler(self, request, response):
        ml = MetaLink4('numbered-parts', 'Numbered text files', workdir=self.workdir)
        for i in range(request.inputs['count'][0].data):
            mf = MetaFile(f'part {i}', 'One numbered text file', fmt=FORMATS.TEXT)
            path = os.path.join(self.workdir, f'file_{i}.txt')
            with open(path, 'w') as fh:
                fh.write(f'line from part {i}\n')
            mf.file = path
            ml.append(mf)
        response.outputs['output'].data = ml.xml
        return response
