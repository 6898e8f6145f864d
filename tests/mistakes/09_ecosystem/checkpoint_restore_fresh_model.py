# task: task-05-checkpoint
# why: restores the checkpoint but returns the freshly built model, whose own random weights were never replaced
# see: 09_ecosystem §9
def save_model(model, path):
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(path, nnx.state(model), force=True)
    checkpointer.wait_until_finished()


def restore_model(path, make_model):
    model = make_model()
    graphdef, state = nnx.split(model)
    ocp.StandardCheckpointer().restore(path, state)
    return model
