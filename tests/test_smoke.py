from tests.support.factories import make_circle


def test_published_circle_is_listed(client):
    circle = make_circle()
    response = client.http.get('/api/learningcircles/')
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body['count'] == 1
    assert body['items'][0]['id'] == circle.id
