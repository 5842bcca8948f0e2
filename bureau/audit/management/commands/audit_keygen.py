import secrets

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from bureau.audit.keys import checkpoint_keys, public_hex


class Command(BaseCommand):
    help = (
        "Print a new audit chain key and a new checkpoint signing key (with its "
        "public key) for .env; with --public, the configured checkpoint public "
        "keys, for whoever verifies checkpoints."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--public",
            action="store_true",
            help="Only print the configured checkpoint public keys by version.",
        )

    def handle(self, *args, public, **options):
        if public:
            for version, key in sorted(checkpoint_keys().public.items()):
                self.stdout.write(f"{version}={public_hex(key)}")
            return
        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        ).hex()
        self.stdout.write(f"BUREAU_AUDIT_CHAIN_KEY={secrets.token_urlsafe(48)}")
        self.stdout.write(f"BUREAU_AUDIT_CHECKPOINT_KEY={seed}")
        self.stdout.write(
            "# "
            + _("public key of this checkpoint key: %(key)s")
            % {"key": public_hex(private.public_key())}
        )
