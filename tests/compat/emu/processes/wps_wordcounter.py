import json
import os
import re
from collections import Counter

from pywps import FORMATS, ComplexInput, ComplexOutput, Format, LiteralOutput, Process
from pywps.app.Common import Metadata


class WordCounter(Process):
    """Counts the words of a text document, read as a stream; the counts go to a JSON file in the workdir."""

    def __init__(self):
        inputs = [ComplexInput('text', 'Text document', abstract='URL of a text document, or the text itself.',
                               supported_formats=[Format('text/plain')])]
        outputs = [
            ComplexOutput('output', 'Word count result', as_reference=True, supported_formats=[FORMATS.JSON]),
            LiteralOutput('words', 'Number of words', data_type='integer'),
            LiteralOutput('source', 'How the text was read', data_type='string'),
        ]
        super().__init__(
            self._handler,
            identifier='wordcounter',
            title='Word Counter',
            abstract='Counts words in a given text.',
            version='1.0',
            metadata=[Metadata('User Guide', 'http://emu.readthedocs.io/en/latest/processes.html')],
            inputs=inputs,
            outputs=outputs,
            store_supported=True,
            status_supported=True,
        )

    def _handler(self, request, response):
        inpt = request.inputs['text'][0]
        counts = Counter()
        with inpt.stream as stream:
            for line in stream:
                counts.update(word.lower() for word in re.findall(r"\w+", line))
        # the file view of the same input must hold the same text
        with open(inpt.file, encoding='utf-8') as fh:
            assert sum(1 for _ in re.finditer(r"\w+", fh.read())) == sum(counts.values())
        path = os.path.join(self.workdir, 'out.json')
        with open(path, 'w') as fp:
            json.dump(dict(counts.most_common()), fp)
        response.outputs['output'].file = path
        response.outputs['words'].data = sum(counts.values())
        response.outputs['source'].data = 'url' if inpt.url and inpt.url.startswith('http') else 'data'
        return response
