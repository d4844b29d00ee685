"""The learning circle insights report: its figures (`report`), charts (`charts`), publishing it
with its emails (`publish`), the public page (`page`) and the demo's finished circle (`demo`)."""
