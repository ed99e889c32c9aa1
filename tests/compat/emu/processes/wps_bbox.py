from pywps import BoundingBoxInput, BoundingBoxOutput, Process


class Box(Process):
    """A bounding box in, the same box out (two CRSs offered for the input, one for the output)."""

    def __init__(self):
        super().__init__(
            self._handler,
            identifier='bbox',
            title='Return a bounding box',
            abstract='Hands back the bounding box it receives, corners and CRS unchanged.',
            version='0.2',
            inputs=[BoundingBoxInput('bbox', 'Area', crss=['epsg:4326', 'epsg:3035'], dimensions=2)],
            outputs=[BoundingBoxOutput('bbox', 'Same area', crss=['epsg:4326'])],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        response.outputs['bbox'].data = request.inputs['bbox'][0].data
        return response
