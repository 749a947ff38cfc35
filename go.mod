module github.com/chatcards/chatcards

go 1.26.8
