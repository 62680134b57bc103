module github.com/mhhs-sit/datacut

go 1.26.8
