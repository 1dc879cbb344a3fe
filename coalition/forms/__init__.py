"""Form classes: fields and validation only; they never write."""
