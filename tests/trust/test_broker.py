"""The embedded (filesystem) broker never hands a worker a half-written message."""

from __future__ import annotations

import threading

import pytest
from kombu import Connection

from leadhunter import celery as celery_module


@pytest.fixture
def filesystem_connection(tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    options = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
        "store_processed": False,
    }
    with Connection("filesystem://", transport_options=options) as connection:
        yield connection, folders["queue"]


def test_the_filesystem_broker_url_uses_the_atomic_channel(filesystem_connection):
    connection, _ = filesystem_connection
    assert isinstance(connection.default_channel, celery_module.AtomicFilesystemChannel)


def test_connecting_to_the_filesystem_broker_warns_of_no_missing_hostname(
    filesystem_connection, caplog
):
    connection, _ = filesystem_connection

    with caplog.at_level("WARNING", logger="kombu.connection"):
        connection.info()

    assert not [record for record in caplog.records if "hostname" in record.getMessage()]


def test_a_message_file_is_visible_only_once_written(filesystem_connection, monkeypatch):
    connection, queue_folder = filesystem_connection
    channel = connection.default_channel
    seen_while_writing = []
    encode = celery_module.str_to_bytes

    def encode_and_look(text):
        # The moment between opening the file and writing it: what would a worker see?
        seen_while_writing.append(sorted(p.name for p in queue_folder.iterdir()))
        return encode(text)

    monkeypatch.setattr(celery_module, "str_to_bytes", encode_and_look)
    channel._put("celery", {"body": "x" * 1000})

    [listing] = seen_while_writing
    assert not [name for name in listing if name.endswith(".celery.msg")]
    assert channel._size("celery") == 1
    assert channel._get("celery") == {"body": "x" * 1000}


def test_a_worker_polling_while_messages_are_written_gets_every_one(filesystem_connection):
    connection, _ = filesystem_connection
    producer_channel = connection.channel()
    consumer_channel = connection.channel()
    total = 400
    received, errors = [], []
    done = threading.Event()

    def consume() -> None:
        while not done.is_set() or consumer_channel._size("celery"):
            try:
                received.append(consumer_channel._get("celery")["n"])
            except Exception as error:  # every failure is what we count
                if type(error).__name__ != "Empty":
                    errors.append(repr(error))

    consumer = threading.Thread(target=consume)
    consumer.start()
    for number in range(total):
        producer_channel._put("celery", {"n": number, "pad": "x" * 4000})
    done.set()
    consumer.join(timeout=60)

    assert errors == []
    assert sorted(received) == list(range(total))
