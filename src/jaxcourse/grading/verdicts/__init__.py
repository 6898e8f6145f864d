"""How tests are decided: the runner that plays a notebook's steps, the test kernel's requests to
the student's kernel (relay, remote, wire), the kernels started ahead (pool), and the behaviour
that names a known mistake.
"""
