"""(being written)"""
def load_images(*a, **k): raise NotImplementedError
