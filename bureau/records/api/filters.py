import django_filters

from bureau.core.filters import StrictBooleanFilter, UtcIsoDateTimeFilter
from bureau.records.models import Batch


class BatchFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Batch.Status.choices)
    received_after = UtcIsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = UtcIsoDateTimeFilter(field_name="received_at", lookup_expr="lt")
    validate_only = StrictBooleanFilter()

    class Meta:
        model = Batch
        fields = ["status", "validate_only"]
