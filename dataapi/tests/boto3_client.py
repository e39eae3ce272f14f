"""An independent Data API client (boto3 `rds-data`) run against the local endpoint.

Usage: boto3_client.py ENDPOINT_URL RESOURCE_ARN SECRET_ARN ENGINE
ENGINE (sqlite, postgres or mysql) picks the SQL the engine understands.
Exits non-zero on any mismatch, or when boto3 is missing (CI installs it with pip).
"""
import base64
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# The engine's word for a binary column, and what its duplicate-key error says.
BLOB_TYPE = {"sqlite": "BLOB", "postgres": "BYTEA", "mysql": "BLOB"}
DUPLICATE_KEY = {"sqlite": "UNIQUE", "postgres": "duplicate key", "mysql": "Duplicate entry"}


def refused(call, code):
    """The message of the error `code` that `call` must raise."""
    try:
        call()
    except ClientError as e:
        assert e.response["Error"]["Code"] == code, e.response
        return e.response["Error"]["Message"]
    raise AssertionError(f"accepted; expected {code}")


def main(endpoint, cluster, secret, engine):
    client = boto3.client(
        "rds-data",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    common = {"resourceArn": cluster, "secretArn": secret}

    def run(sql, **kwargs):
        return client.execute_statement(sql=sql, **common, **kwargs)

    run(f"CREATE TABLE py (id INTEGER PRIMARY KEY, name TEXT, score REAL, raw {BLOB_TYPE[engine]})")
    out = run(
        "INSERT INTO py (id, name, score, raw) VALUES (:id, :name, :score, :raw)",
        parameters=[
            {"name": "id", "value": {"longValue": 1}},
            {"name": "name", "value": {"stringValue": "one"}},
            {"name": "score", "value": {"doubleValue": 1.5}},
            {"name": "raw", "value": {"blobValue": b"\x00\xff"}},
        ],
    )
    assert out["numberOfRecordsUpdated"] == 1, out

    out = run(
        "SELECT id, name, score, raw FROM py WHERE id = :id",
        parameters=[{"name": "id", "value": {"longValue": 1}}],
        includeResultMetadata=True,
    )
    assert [c["name"] for c in out["columnMetadata"]] == ["id", "name", "score", "raw"], out
    assert out["records"] == [[
        {"longValue": 1},
        {"stringValue": "one"},
        {"doubleValue": 1.5},
        {"blobValue": b"\x00\xff"},
    ]], out

    out = client.batch_execute_statement(
        sql="INSERT INTO py (id, name) VALUES (:id, :name)",
        parameterSets=[
            [{"name": "id", "value": {"longValue": i}}, {"name": "name", "value": {"stringValue": f"n{i}"}}]
            for i in (2, 3, 4)
        ],
        **common,
    )
    assert len(out["updateResults"]) == 3, out

    tx = client.begin_transaction(**common)["transactionId"]
    run("DELETE FROM py WHERE id = 2", transactionId=tx)
    out = client.rollback_transaction(transactionId=tx, **common)
    assert out["transactionStatus"] == "Rollback Complete", out

    tx = client.begin_transaction(**common)["transactionId"]
    run("DELETE FROM py WHERE id = 3", transactionId=tx)
    out = client.commit_transaction(transactionId=tx, **common)
    assert out["transactionStatus"] == "Transaction Committed", out

    out = run("SELECT id FROM py ORDER BY id")
    assert [r[0]["longValue"] for r in out["records"]] == [1, 2, 4], out

    try:
        run("INSERT INTO py (id) VALUES (1)")
        raise AssertionError("duplicate key accepted")
    except client.exceptions.DatabaseErrorException as e:
        assert DUPLICATE_KEY[engine] in str(e), e

    # Numbered parameters, as query builders send them.
    out = run(
        "SELECT name FROM py WHERE id = :0 OR id = :1 ORDER BY id",
        parameters=[
            {"name": "0", "value": {"longValue": 1}},
            {"name": "1", "value": {"longValue": 4}},
        ],
    )
    assert [r[0]["stringValue"] for r in out["records"]] == ["one", "n4"], out
    out = client.batch_execute_statement(
        sql="UPDATE py SET score = :1 WHERE id = :0",
        parameterSets=[[{"name": "0", "value": {"longValue": 4}}, {"name": "1", "value": {"doubleValue": 2.5}}]],
        **common,
    )
    assert len(out["updateResults"]) == 1, out

    # One statement per call, with the hosted service's error and message ("An error occurred
    # (ValidationException) when calling the ExecuteStatement operation: Multistatements aren't
    # supported."); the same for a batch. A trailing `;` is fine.
    for call in (
        lambda: run("SELECT 1; SELECT 2"),
        lambda: client.batch_execute_statement(sql="DELETE FROM py; DELETE FROM py", **common),
    ):
        assert refused(call, "ValidationException") == "Multistatements aren't supported."
    try:
        run("SELECT 1; SELECT 2")
        raise AssertionError("several statements accepted")
    except ClientError as e:
        assert str(e) == (
            "An error occurred (ValidationException) when calling the ExecuteStatement operation: "
            "Multistatements aren't supported."
        ), e
    out = run("SELECT COUNT(*) FROM py WHERE name <> ';';")
    assert out["records"] == [[{"longValue": 3}]], out

    try:
        run("SELECT 1", transactionId="nope")
        raise AssertionError("unknown transaction accepted")
    except client.exceptions.TransactionNotFoundException:
        pass

    # JSON format: formattedRecords only; columnMetadata is blank like records.
    out = run("SELECT id, name FROM py WHERE id = 1", formatRecordsAs="JSON", includeResultMetadata=True)
    assert "columnMetadata" not in out and "records" not in out, out
    assert json.loads(out["formattedRecords"]) == [{"id": 1, "name": "one"}], out
    # Two columns of one name cannot both be JSON keys.
    refused(lambda: run("SELECT id, id FROM py", formatRecordsAs="JSON"), "BadRequestException")
    assert len(run("SELECT id, id FROM py WHERE id = 1")["records"][0]) == 2

    # `schema` is refused, as on Aurora Serverless v2 and provisioned clusters.
    for call in (
        lambda: run("SELECT 1", schema="public"),
        lambda: client.batch_execute_statement(sql="SELECT 1", schema="public", **common),
        lambda: client.begin_transaction(schema="public", **common),
    ):
        assert refused(call, "ValidationException") == "The schema parameter isn't supported"

    # Bytes that happen to be UTF-8 are still a blob, and base64 in JSON format (the guide's example).
    hello = b"hello world"
    run("INSERT INTO py (id, raw) VALUES (5, :raw)", parameters=[{"name": "raw", "value": {"blobValue": hello}}])
    out = run("SELECT raw FROM py WHERE id = 5")
    assert out["records"] == [[{"blobValue": hello}]], out
    out = run("SELECT raw AS blob_column FROM py WHERE id = 5", formatRecordsAs="JSON")
    records = json.loads(out["formattedRecords"])
    assert records == [{"blob_column": "aGVsbG8gd29ybGQ="}], out
    assert base64.b64decode(records[0]["blob_column"]) == hello

    if engine == "postgres":
        message = refused(lambda: run("SELECT 12.5::money"), "UnsupportedResultException")
        assert message == "The result contains the unsupported data type money", message
        out = run("SELECT 12.5::money::text AS price")
        assert out["records"] == [[{"stringValue": "$12.50"}]], out

    # A body over the endpoint's 4 MiB is refused with an answer, not a reset, and the client's
    # connection pool goes on serving calls.
    for _ in range(3):
        try:
            run("SELECT :big", parameters=[{"name": "big", "value": {"stringValue": "z" * 4194304}}])
            raise AssertionError("a body over 4 MiB accepted")
        except client.exceptions.BadRequestException as e:
            assert "maximum size" in str(e), e
        assert run("SELECT 1")["records"] == [[{"longValue": 1}]]
    print("boto3 client: all checks passed")


if __name__ == "__main__":
    main(*sys.argv[1:5])
