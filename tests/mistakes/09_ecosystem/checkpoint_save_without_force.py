# task: task-05-checkpoint
# why: saves without force=True, so a second save to the same folder raises instead of replacing it
# see: 09_ecosystem §9
def save_model(model, path):
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(path, nnx.state(model))
    checkpointer.wait_until_finished()


def restore_model(path, make_model):
    graphdef, abstract_state = nnx.split(nnx.eval_shape(make_model))
    state = ocp.StandardCheckpointer().restore(path, abstract_state)
    return nnx.merge(graphdef, state)
