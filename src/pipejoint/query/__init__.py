"""The query algebra: expressions as data, restrictions from user input, SQL fragments, the one compiler that builds SQL, fetching and previews."""
