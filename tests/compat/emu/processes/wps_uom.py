from pywps import UOM, LiteralInput, LiteralOutput, Process

FACTORS = {'metre': 1.0, 'kilometre': 1000.0, 'feet': 0.3048}


class Distance(Process):
    """Converts a length into the unit asked for on the output (``uom`` on input and output)."""

    def __init__(self):
        units = [UOM('metre'), UOM('kilometre'), UOM('feet')]
        super().__init__(
            self._handler,
            identifier='distance',
            title='Convert a length',
            inputs=[LiteralInput('distance', 'A length', data_type='float', uoms=units)],
            outputs=[LiteralOutput('converted', 'The length in the wanted unit', data_type='float', uoms=units),
                     LiteralOutput('input_unit', 'The unit it came in', data_type='string')],
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        inpt = request.inputs['distance'][0]
        unit = inpt.uom.uom if inpt.uom is not None else 'metre'
        metres = inpt.data * FACTORS[unit]
        wanted = response.outputs['converted'].uom
        target = wanted.uom if wanted is not None else 'metre'
        response.outputs['converted'].data = metres / FACTORS[target]
        response.outputs['converted'].uom = UOM(target)
        response.outputs['input_unit'].data = unit
        return response
