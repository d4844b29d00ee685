"""facilitators.reads parses DynamoDB's answers with json.loads: the items must be exactly
what botocore's own parser gives, binary values (top-level and nested) included."""
from chalicelib.models import raw as reads
from chalicelib.models import TableItem
from tests.support import aws_calls
from tests.support.factories import make_circle


def _put_raw(pk, sk, **attributes):
    reads.client().put_item(TableName=TableItem.Meta.table_name,
                            Item={'pk': {'S': pk}, 'sk': {'S': sk}, **attributes})


def test_a_partition_read_as_json_equals_botocores_parse_binary_values_included():
    circle = make_circle()
    pk = f'CIRCLE#{circle.id}'
    _put_raw(pk, 'X#1', top={'B': b'\x00\xffcard'}, n={'N': '12.5'}, flag={'BOOL': True}, gone={'NULL': True},
             nested={'M': {'inner': {'B': b'\x01\x02'}, 'list': {'L': [{'BS': [b'a', b'\xfe']}, {'S': '"B":'}]}}})
    _put_raw(pk, 'X#2', words={'SS': ['a', 'b']}, text={'S': 'no binary here'})
    expected = reads.client().query(TableName=TableItem.Meta.table_name, KeyConditionExpression='pk = :p',
                                    ExpressionAttributeValues={':p': {'S': pk}})['Items']
    aws_calls.reset()
    found = reads.query('pk', pk)
    assert aws_calls.dynamodb_calls() == {'Query': 1}
    assert found == expected
    raw = next(item for item in found if item['sk']['S'] == 'X#1')
    assert raw['top'] == {'B': b'\x00\xffcard'}
    assert raw['nested']['M']['list']['L'][0] == {'BS': [b'a', b'\xfe']}


def test_a_batch_get_reads_only_the_attributes_asked_for_and_skips_missing_keys():
    circle = make_circle()
    items = reads.batch_get([(f'CIRCLE#{circle.id}', 'CIRCLE'), ('CIRCLE#none', 'CIRCLE')], ['id', 'nm'])
    assert items == [{'id': {'S': circle.id}, 'nm': {'S': circle.name}}]
