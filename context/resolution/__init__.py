"""What a name at the cursor denotes: imports, qualifiers, receiver types, members."""
