import json
import os
import re
from collections import Counter

from pywps import FORMATS, ComplexInput, ComplexOutput, Format, LiteralOutput, Process
from pywps.app.Common import Metadata


class WordCounter(Process):
    """Counts the words of a text read as a stream; the tally goes to a JSON file written in the workdir."""

    def __init__(self):
        inputs = [ComplexInput('text', 'Some text', abstract='The text inline, or a link to it.',
                               supported_formats=[Format('text/plain')])]
        outputs = [
            ComplexOutput('output', 'Count per word', as_reference=True, supported_formats=[FORMATS.JSON]),
            LiteralOutput('words', 'Words in total', data_type='integer'),
            LiteralOutput('source', 'Inline or linked', data_type='string'),
        ]
        super().__init__(
            self._handler,
            identifier='wordcounter',
            title='Count words',
            abstract='Tallies how often each word occurs in a text.',
            version='1.0',
            metadata=[Metadata('Process notes', 'https://example.org/collection/wordcounter')],
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
