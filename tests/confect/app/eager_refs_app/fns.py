import confect
from confect import query

ADD = confect.refs("tests.confect.app.eager_refs_app").api.fns.add


@query()
def add():
    return 1
    yield
