# task: task-03-gauss-newton
# why: builds the full m x n Jacobian with jax.jacfwd and multiplies J^T (J v) (right numbers, m*n memory)
# see: 04_autodiff §9
import jax


def gauss_newton_vp(residuals, theta, v):
    jacobian = jax.jacfwd(residuals)(theta)
    return jacobian.T @ (jacobian @ v)
