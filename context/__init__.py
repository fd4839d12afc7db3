"""Repository context: what surrounds the cursor and what else in the repository the model should see."""
