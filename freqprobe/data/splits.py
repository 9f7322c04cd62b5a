"""(being written)"""
def train_test_split(*a, **k): raise NotImplementedError
