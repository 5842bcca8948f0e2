import factory
from django.utils import timezone

from members.models import ApiKey, Member, Role, User
from members.services import api_key_create

DEFAULT_PASSWORD = "correct-horse-battery-9"


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"member{n}")
    name = factory.LazyAttribute(lambda o: f"{o.code.title()} Lending")
    kind = Member.Kind.CONSUMER_FINANCE


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.ANALYST
    member = factory.SubFactory(MemberFactory)
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def bureau_user(username: str, role: str) -> User:
    return UserFactory(username=username, role=role, member=None)


def issue_key(
    member: Member, scopes=("upload", "query", "monitor"), **kwargs
) -> tuple[ApiKey, str]:
    """A real key through the service: (row, full key string)."""
    return api_key_create(
        member=member, name=kwargs.pop("name", "test"), scopes=scopes, **kwargs
    )


def expired(days: int = 1):
    return timezone.now() - timezone.timedelta(days=days)


def an_inquiry(member, **overrides) -> dict:
    """Fields of a plain inquiry (a miss with a small report), for Inquiry(**…)."""
    return {
        "member": member,
        "id_type": "resident_id",
        "id_hash": "h" * 64,
        "id_masked": "110105********002X",
        "name_hash": "n" * 64,
        "purpose": "loan_approval",
        "consent_reference": "c-1",
        "hit": False,
        "report": {"accounts": [{"principal": "1.00", "name": "张三"}]},
        **overrides,
    }
