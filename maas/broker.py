"""The embedded default's Celery broker: kombu's `filesystem://` transport, with each message
made visible to consumers only once it is whole.

kombu's own `_put` creates the message file in the queue folder and then writes it, and `_get`
takes any file it finds there: under load a worker took a message between the two, read an
empty file, and died of the JSONDecodeError ("Unrecoverable error"; seen under the serving
benchmark, which stopped `make run`). Here a message is written to a file beside the queue
folder and renamed into it, which is atomic on one file system: a consumer sees the whole
message or nothing. Celery picks this class through `broker_transport` (maas/settings.py).
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs) -> None:
        """Put `payload` onto `queue`, whole (see the module's docstring)."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staging = f"{self.data_folder_out.rstrip(os.sep)}.staging"
        try:
            os.makedirs(staging, exist_ok=True)
            written = os.path.join(staging, name)
            with open(written, "wb") as out:
                out.write(str_to_bytes(dumps(payload)))
            os.replace(written, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
