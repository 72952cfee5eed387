"""leadhunter/redis_broker.py against a real redis-server of the test's own (no worker)."""

from __future__ import annotations

import time

import pytest
import redis
from kombu import Connection, Exchange, Queue

from leadhunter import redis_broker
from tests.waiting import wait_for

QUEUE = Queue("broker-test", Exchange("broker-test"), "broker-test")


@pytest.fixture
def server(redis_server):
    yield redis_server
    redis_broker.orphans.take()  # nothing carries over to the next test


def take_two(connection: Connection) -> list:
    channel = connection.default_channel
    QUEUE(channel).declare()
    producer = connection.Producer(channel)
    for number in range(2):
        producer.publish({"n": number}, exchange=QUEUE.exchange, routing_key="broker-test")
    messages = [QUEUE(channel).get(no_ack=False) for _ in range(2)]
    assert all(messages)
    return messages


def test_a_connection_lost_with_messages_held_is_closed_without_error_and_they_come_back(server):
    client = redis.Redis(port=server.port)
    connection = Connection(server.url)
    assert isinstance(connection.default_channel, redis_broker.LeasedChannel)
    take_two(connection)
    assert (client.llen("broker-test"), client.hlen("unacked")) == (0, 2)

    # What the worker meets after a connection error: Connection.collect() has detached the
    # transport (client None), then the channel is closed, which gives the held messages back.
    server.kill()
    channel = connection.default_channel
    connection.transport.client = None
    channel.close()  # kombu 5.7's own channel raises AttributeError('...hostname') here
    connection.collect()

    assert len(redis_broker.orphans) == 2
    server.start()
    assert (client.llen("broker-test"), client.hlen("unacked")) == (0, 2)  # kept by Redis
    with Connection(server.url) as reconnected:
        reconnected.default_channel.qos.restore_visible()  # the worker's first sweep
    assert (client.llen("broker-test"), client.hlen("unacked")) == (2, 0)
    assert len(redis_broker.orphans) == 0


def test_a_held_message_has_its_lease_renewed_and_an_acknowledged_one_is_not_revived(server):
    client = redis.Redis(port=server.port)
    with Connection(server.url, transport_options={"visibility_timeout": 3}) as connection:
        first, second = take_two(connection)
        qos = connection.default_channel.qos
        taken_at = dict(client.zrange("unacked_index", 0, -1, withscores=True))
        first.ack()

        tag = second.delivery_tag.encode()

        def leased_until() -> dict[bytes, float]:
            return dict(client.zrange("unacked_index", 0, -1, withscores=True))

        # The lease thread renews every 0.5 s here; a loaded machine may run it late.
        assert wait_for(
            lambda: leased_until().get(tag, 0) > taken_at[tag] + qos.lease_interval, timeout=10
        ), (taken_at, leased_until())
        assert list(leased_until()) == [tag]  # the acknowledged one stayed gone
        qos.restore_visible()  # a sweep finds nothing expired
        assert client.llen("broker-test") == 0
        second.ack()


def test_a_channel_that_closes_stops_renewing_so_redis_can_hand_its_messages_out(server):
    client = redis.Redis(port=server.port)
    connection = Connection(server.url, transport_options={"visibility_timeout": 3})
    take_two(connection)
    qos = connection.default_channel.qos
    qos.restore_unacked = lambda client=None: None  # as if Redis could not be reached
    connection.close()
    closed_at = dict(client.zrange("unacked_index", 0, -1, withscores=True))

    time.sleep(qos.lease_interval * 2 + 0.2)

    assert dict(client.zrange("unacked_index", 0, -1, withscores=True)) == closed_at
