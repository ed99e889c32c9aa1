from pywps import (
    FORMATS,
    BoundingBoxInput,
    BoundingBoxOutput,
    ComplexInput,
    ComplexOutput,
    Format,
    LiteralInput,
    LiteralOutput,
    Process,
)
from pywps.app.Common import Metadata
from pywps.inout.literaltypes import AllowedValue, AnyValue
from pywps.validator.allowed_value import ALLOWEDVALUETYPE
from pywps.validator.mode import MODE

LITERALS = [
    # identifier, data_type, default, title (of the input and of the output that hands it back)
    ('string', 'string', 'a plain default', 'Some words'),
    ('int', 'integer', 7, 'A whole number'),
    ('float', 'float', 3.1415, 'A number with a fraction'),
    ('boolean', 'boolean', False, 'Yes or no'),
    ('date', 'date', '2012-05-01', 'A calendar day'),
    ('time', 'time', '12:00:00', 'A time of day'),
    ('datetime', 'dateTime', '2016-09-02T12:00:00Z', 'A day and a time'),
    ('uri', 'anyURI', 'https://example.org/data.nc', 'A link'),
    ('positive', 'positiveInteger', 3, 'A count of one or more'),
    ('non_negative', 'nonNegativeInteger', 0, 'A count, zero allowed'),
]


class InOut(Process):
    """Every kind of input, each handed back on the output of the same name."""

    def __init__(self):
        inputs = [LiteralInput(name, title, data_type=dtype, default=default,
                               min_occurs=0, abstract=f'A {dtype} with default {default}')
                  for name, dtype, default, title in LITERALS]
        inputs += [
            LiteralInput('string_choice', 'Compass point', data_type='string',
                         abstract='north, east, south or west.',
                         allowed_values=['north', 'east', 'south', 'west'], default='west', min_occurs=0),
            LiteralInput('string_multiple_choice', 'Birds seen', data_type='string',
                         abstract='Up to two names off a short list of birds.',
                         allowed_values=['red kite', 'grey heron', 'white stork', 'black swan'],
                         min_occurs=0, max_occurs=2, default='black swan'),
            LiteralInput('int_range', 'Score out of ten', data_type='integer', min_occurs=0, default=1,
                         allowed_values=[AllowedValue(allowed_type=ALLOWEDVALUETYPE.RANGE, minval=1, maxval=10,
                                                      spacing=1)]),
            LiteralInput('any_value', 'Free-form value', data_type='string', allowed_values=AnyValue(),
                         min_occurs=0, default='anything'),
            LiteralInput('repeated', 'Repeated value', data_type='integer', min_occurs=1, max_occurs=5),
            BoundingBoxInput('bbox', 'Area of interest', abstract='Two corners, in geographic or in LAEA Europe '
                             'coordinates.', crss=['EPSG:4326', 'EPSG:3035'], min_occurs=0),
            ComplexInput('text', 'Plain text', abstract='May be left out; sent in the request or as a link.',
                         metadata=[Metadata('Handed back as it came')], min_occurs=0,
                         supported_formats=[Format('text/plain')]),
            ComplexInput('xml', 'An XML document', abstract='Validated in strict mode', min_occurs=0, mode=MODE.STRICT,
                         supported_formats=[FORMATS.GML, Format('text/xml')]),
        ]
        outputs = [LiteralOutput(name, title, data_type=dtype) for name, dtype, _, title in LITERALS]
        outputs += [
            LiteralOutput('string_choice', 'The compass point', data_type='string'),
            LiteralOutput('string_multiple_choice', 'The birds, comma separated', data_type='string'),
            LiteralOutput('int_range', 'The score', data_type='integer'),
            LiteralOutput('any_value', 'The free-form value', data_type='string'),
            LiteralOutput('repeated', 'The repeated values added up', data_type='integer'),
            BoundingBoxOutput('bbox', 'The area, or a default square', crss=['EPSG:4326', 'EPSG:3035']),
            ComplexOutput('text', 'The text, or a note that none came', supported_formats=[Format('text/plain')]),
            ComplexOutput('xml', 'The XML document', supported_formats=[FORMATS.GML, Format('text/xml')]),
        ]

        super().__init__(
            self._handler,
            identifier='inout',
            title='Every input kind, handed back',
            abstract='Takes literal, bounding box and complex inputs of many types and returns each of them.',
            version='1.0',
            metadata=[Metadata('Process notes', 'https://example.org/collection/inout')],
            inputs=inputs,
            outputs=outputs,
            store_supported=True,
            status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        for name in [entry[0] for entry in LITERALS] + ['string_choice', 'int_range', 'any_value']:
            if name in request.inputs:
                response.outputs[name].data = request.inputs[name][0].data
        if 'string_multiple_choice' in request.inputs:
            response.outputs['string_multiple_choice'].data = ', '.join(
                inpt.data for inpt in request.inputs['string_multiple_choice'])
        response.outputs['repeated'].data = sum(inpt.data for inpt in request.inputs['repeated'])
        if 'bbox' in request.inputs:
            response.outputs['bbox'].data = request.inputs['bbox'][0].data
            response.outputs['bbox'].crs = request.inputs['bbox'][0].crs
        else:
            response.outputs['bbox'].data = [0, 0, 10, 10]
        if 'text' in request.inputs:
            response.outputs['text'].data = request.inputs['text'][0].data
        else:
            response.outputs['text'].data = 'nothing was sent'
        if 'xml' in request.inputs:
            response.outputs['xml'].data_format = request.inputs['xml'][0].data_format
            response.outputs['xml'].file = request.inputs['xml'][0].file
        else:
            response.outputs['xml'].data = '<empty/>'
        return response
