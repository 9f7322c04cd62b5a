"""(being written)"""
def demo_sets(*a, **k): raise NotImplementedError
