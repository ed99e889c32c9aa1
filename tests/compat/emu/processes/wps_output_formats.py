import json
import os

from pywps import FORMATS, ComplexOutput, Format, LiteralInput, Process


class OutputFormats(Process):
    """One table of squares, written in whichever output format the client picks (``data_format``)."""

    def __init__(self):
        formats = [FORMATS.JSON, FORMATS.CSV, Format('text/plain'), FORMATS.NETCDF, FORMATS.GEOJSON,
                   Format('application/x-emu-table')]
        super().__init__(
            self._handler,
            identifier='output_formats',
            title='A table in several formats',
            abstract='Squares of the first numbers as JSON, GeoJSON, CSV, text or netCDF bytes, plus a file.',
            inputs=[LiteralInput('rows', 'How many numbers', data_type='positiveInteger', default=2, min_occurs=0)],
            outputs=[
                ComplexOutput('table', 'The squares', supported_formats=formats, as_reference=False),
                ComplexOutput('netcdf', 'Ten bytes opening with a netCDF signature', supported_formats=[FORMATS.NETCDF],
                              as_reference=True),
            ],
            store_supported=True,
            status_supported=True,
        )

    def _handler(self, request, response):
        rows = [{'n': n, 'square': n * n} for n in range(1, request.inputs['rows'][0].data + 1)]
        mime = response.outputs['table'].data_format.mime_type
        if mime == FORMATS.JSON.mime_type:
            response.outputs['table'].data = json.dumps(rows)
        elif mime == FORMATS.GEOJSON.mime_type:
            response.outputs['table'].data = json.dumps({'type': 'FeatureCollection', 'features': [
                {'type': 'Feature', 'geometry': {'type': 'Point', 'coordinates': [r['n'], r['square']]},
                 'properties': r} for r in rows]})
        elif mime == FORMATS.CSV.mime_type:
            response.outputs['table'].data = 'n,square\n' + ''.join(f"{r['n']},{r['square']}\n" for r in rows)
        elif mime == FORMATS.NETCDF.mime_type:
            response.outputs['table'].data = b'CDF\x01' + bytes(len(rows))
        else:
            response.outputs['table'].data = '\n'.join(f"{r['n']} {r['square']}" for r in rows)
        path = os.path.join(self.workdir, 'squares.nc')
        with open(path, 'wb') as fh:
            fh.write(b'CDF\x01\x00\x00\x00\x00\xff\xfe')
        response.outputs['netcdf'].file = path
        return response
