"""``edgedeploy verify``: does the deployed model answer like the float model it came from? (``verify.run_verify``)"""
