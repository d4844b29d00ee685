"""`condition_failed`: a transaction the data refused, told apart from one cancelled for other reasons."""
import pytest
from pynamodb.exceptions import TransactWriteError

from chalicelib.models import Signup
from chalicelib.models.transactions import condition_failed, transact_write


def refused_transaction():
    """A real cancellation by moto: an update on condition that the item exists, which it does not."""
    try:
        transact_write(lambda t: t.update(Signup('CIRCLE#none', 'SIGNUP#none'), actions=[Signup.name.set('x')],
                                          condition=Signup.pk.exists()))
    except TransactWriteError as error:
        return error
    pytest.fail('the transaction was not cancelled')


def test_a_failed_condition_is_told_apart():
    assert condition_failed(refused_transaction())


def test_a_conflict_or_missing_reasons_is_not_a_failed_condition():
    error = refused_transaction()
    for reason in error.cancellation_reasons or []:
        if reason is not None:
            reason.code = 'TransactionConflict'
    assert not condition_failed(error)
    assert not condition_failed(TransactWriteError('no reasons given'))
