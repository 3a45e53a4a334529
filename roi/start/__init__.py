"""Getting started with your own data: a blank project (`roi init`), a connector written from
what a file holds (`roi connect`), and model definitions proposed from the billing data's tags
(`roi models suggest`)."""
