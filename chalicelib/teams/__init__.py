"""Teams: creating one, its members and their roles (`teams`), and the ways in: email
invitations and the join link (`invitations`)."""
