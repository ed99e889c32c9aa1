from pywps import BoundingBoxInput, BoundingBoxOutput, Process


class Box(Process):
    def __init__(self):
        super().__init__(
            self._handler,
            identifier='bbox',
            title='Bounding box in- and out',
            abstract='Give bounding box, return the same',
            version='0.2',
            inputs=[BoundingBoxInput('bbox', 'Box', crss=['epsg:4326', 'epsg:3035'], dimensions=2)],
            outputs=[BoundingBoxOutput('bbox', 'Box', crss=['epsg:4326'])],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        response.outputs['bbox'].data = request.inputs['bbox'][0].data
        return response
