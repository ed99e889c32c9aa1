from pywps import LiteralInput, LiteralOutput, Process


class Translation(Process):
    """Titles and abstracts in several languages, and a handler answering in the requested one."""

    def __init__(self):
        inputs = [
            LiteralInput('input 1', 'Input 1', data_type='string', min_occurs=0, default='x',
                         abstract='Some input', translations={
                             'fr-CA': {'title': 'Entrée 1', 'abstract': 'Une entrée'},
                             'de-DE': {'title': 'Eingabe 1', 'abstract': 'Eine Eingabe'}}),
        ]
        outputs = [
            LiteralOutput('output1', 'Output 1', data_type='string', abstract='Some output',
                          translations={'fr-CA': {'title': 'Sortie 1', 'abstract': 'Une sortie'},
                                        'de-DE': {'title': 'Ausgabe 1'}}),
        ]
        super().__init__(
            self._handler,
            identifier='translation',
            title='Translated process',
            abstract='Process including translations',
            version='0.1',
            inputs=inputs,
            outputs=outputs,
            store_supported=True,
            status_supported=True,
            translations={
                'fr-CA': {'title': 'Processus traduit', 'abstract': 'Processus incluant des traductions'},
                'de-DE': {'title': 'Übersetzter Prozess', 'abstract': 'Prozess mit Übersetzungen'},
            },
        )

    @staticmethod
    def _handler(request, response):
        greetings = {'fr-ca': 'Bonjour', 'de-de': 'Hallo'}
        response.outputs['output1'].data = greetings.get((request.language or '').lower(), 'Hello')
        return response
