from pywps import LiteralInput, LiteralOutput, Process


class Translation(Process):
    """Described in three languages; the handler answers in the language of the request."""

    def __init__(self):
        inputs = [
            LiteralInput('input 1', 'Any word', data_type='string', min_occurs=0, default='x',
                         abstract='Not used; it carries translated texts', translations={
                             'fr-CA': {'title': "N'importe quel mot",
                                       'abstract': 'Inutilisé ; il porte des textes traduits'},
                             'de-DE': {'title': 'Irgendein Wort', 'abstract': 'Unbenutzt; es trägt übersetzte Texte'}}),
        ]
        outputs = [
            LiteralOutput('output1', 'Salutation', data_type='string', abstract='Hello in the language asked for',
                          translations={'fr-CA': {'title': 'Salutation en français', 'abstract': 'Bonjour'},
                                        'de-DE': {'title': 'Gruß'}}),
        ]
        super().__init__(
            self._handler,
            identifier='translation',
            title='Greeting in three languages',
            abstract='Says hello in English, French or German, following the language of the request',
            version='0.1',
            inputs=inputs,
            outputs=outputs,
            store_supported=True,
            status_supported=True,
            translations={
                'fr-CA': {'title': 'Salutation en trois langues', 'abstract': 'Dit bonjour dans la langue demandée'},
                'de-DE': {'title': 'Gruß in drei Sprachen', 'abstract': 'Grüßt in der verlangten Sprache'},
            },
        )

    @staticmethod
    def _handler(request, response):
        greetings = {'fr-ca': 'Bonjour', 'de-de': 'Hallo'}
        response.outputs['output1'].data = greetings.get((request.language or '').lower(), 'Hello')
        return response
