"""Users: accounts and sign-up (accounts), the JSON shape at the API edge (model), administration
(admin), e-mail verification and password reset (verify), third-party identities (oauth), and quota
moves such as top-ups and redemptions (wallet)."""
