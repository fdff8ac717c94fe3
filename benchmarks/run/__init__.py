"""The run itself: plan the matrix, resume an interrupted run, mark the candidates, write the deployables."""
