"""Calendar's use cases: one function per thing an event or a person does, each its own
unit of work, each returning plain values built inside it."""
