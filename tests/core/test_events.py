"""Domain events (bureau/core/events.py): the payload is declared and checked,
`send` runs receivers in the sender's transaction and lets their errors through,
`send_on_commit` runs them only once the transaction commits."""

import pytest
from django.db import transaction

from bureau.core.events import DomainEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return DomainEvent("thing_happened", payload=("thing_id",))


@pytest.fixture
def heard(event):
    calls = []

    def receiver(sender, *, thing_id, **kwargs):
        calls.append((sender, thing_id))

    event.connect(receiver, weak=False)
    return calls


def test_send_when_payload_as_declared_calls_receivers_at_once(event, heard):
    with transaction.atomic():
        event.send("sender", thing_id=7)
        assert heard == [("sender", 7)]  # before the transaction ends


@pytest.mark.parametrize("payload", [{}, {"thing_id": 1, "other": 2}, {"thin_id": 1}])
def test_send_when_payload_differs_from_declared_raises(event, heard, payload):
    with pytest.raises(TypeError, match="thing_happened: payload is"):
        event.send("sender", **payload)
    with pytest.raises(TypeError, match="thing_happened: payload is"):
        event.send_on_commit("sender", **payload)
    assert heard == []


def test_send_when_receiver_fails_rolls_back_the_senders_write(event, alice):
    def refuse(sender, **kwargs):
        raise RuntimeError("receiver failed")

    event.connect(refuse, weak=False)
    with pytest.raises(RuntimeError, match="receiver failed"), transaction.atomic():
        type(alice).objects.filter(pk=alice.pk).update(first_name="Changed")
        event.send("sender", thing_id=1)
    alice.refresh_from_db()
    assert alice.first_name != "Changed"


def test_send_robust_when_called_is_refused(event, heard):
    with pytest.raises(TypeError, match="sent with send"):
        event.send_robust("sender", thing_id=1)
    assert heard == []


def test_send_on_commit_when_committed_calls_receivers_after(
    event, heard, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event.send_on_commit("sender", thing_id=3)
        assert heard == []
    assert heard == [("sender", 3)]


def test_send_on_commit_when_rolled_back_calls_nobody(
    event, heard, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        event.send_on_commit("sender", thing_id=4)
        raise RuntimeError("rolled back")
    assert (callbacks, heard) == ([], [])
