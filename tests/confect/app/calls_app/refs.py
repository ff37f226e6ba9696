import confect

refs = confect.refs("tests.confect.app.calls_app")
