"""What `OPTIONS` answers under /api/: the view's name, description and media
types. DRF's default also describes each method's input by building the view's
serializer, which views that pick their serializers per method do not declare:
an `OPTIONS` request was a 500. The OpenAPI schema describes the input instead."""

from rest_framework.metadata import SimpleMetadata


class ApiMetadata(SimpleMetadata):
    def determine_actions(self, request, view) -> dict:
        return {}  # SimpleMetadata leaves out an empty "actions"
