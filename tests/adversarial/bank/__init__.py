"""A bank: accounts whose total must never change, and a log of every transfer."""
